"""Is it a good deal? Pure arithmetic and summaries, no Telegram and no platform calls.

- `mortgage`: what a home costs to buy on a loan (equal instalments or equal principal);
- `fair_price`: an item's asking price against the same items on sale and its past sales;
- `privacy`: personal data in platform text (reviews) masked before it is shown.
"""
