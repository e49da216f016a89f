"""What Huiwu hands out besides messages: charts (PNG), the meeting report (.docx) and the
ledger and progress tables (.xlsx)."""
