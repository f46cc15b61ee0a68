"""Price watching without Telegram: alert rules, poll planning, the poll cycle, delivery decisions.

`handlers/` wires these into the Application (JobQueue, the Bot) and renders messages;
nothing here imports `telegram`, so every decision can be tested without a chat.
"""
