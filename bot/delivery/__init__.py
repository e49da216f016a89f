"""Getting messages out: outbox addressing, the outbox sender, and send limits."""
