"""Case history: the case aggregate and its events, persistence, and the application."""
