"""UPS: OAuth client credentials, Shipping, Tracking and Track Alert: client, connector, simulator, fixtures."""
