"""DHL Parcel DE Shipping v2: client, connector, simulator and the official fixtures."""
