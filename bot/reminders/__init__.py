"""Reminders: a per-plan policy, a pure planner over times, sources of things to remind
about, and the engine that sends what is due through the outbox (issue 4).

This package's ``__init__`` imports nothing, so ``bot.plan`` can use the policy without
pulling in the application.
"""
