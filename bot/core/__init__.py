"""The core every feature stands on: the app object, the clock, settings, catalogs and the
platform-neutral messaging contract."""
