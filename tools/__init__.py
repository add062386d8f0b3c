"""Developer tooling kept apart from the application: the Bot API emulator, the offline
sandbox and the demo province."""
