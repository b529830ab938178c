"""The web layer: Starlette app, routes, middleware, sessions, CLI and settings."""
