"""Platform clients: one module per platform, the shared models, errors and gateway."""
