"""The rectification ledger (整改台账): its rules, items, reminders and texts."""
