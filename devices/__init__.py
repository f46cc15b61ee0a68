"""The device parser: free-text device descriptions read into Aihuishou's fields.

`parser` reads a description against the catalogue (`data/devices.json`) and the keyword
tables; `flow` decides, without Telegram, what a quote asks next; `tradein` reads a
Xianyu item as a device for its trade-in value.
"""
