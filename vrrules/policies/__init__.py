"""Policy specs: models, loader, compiler stages, decisions, and the durable_rules adapter."""
