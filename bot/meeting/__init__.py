"""The meeting itself (issue 6): opinions, heart-to-heart talks, the agenda, anonymous
surveys with rounds. Platform-neutral core steps; ``handlers/`` turns chat events into them."""
