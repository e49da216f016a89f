"""Stand-ins for the outside world: emulators of the platforms' APIs, the demo, the crash harness."""
