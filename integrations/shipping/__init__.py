"""Shipping: service rules, labels bought through the carrier kit, manifests and the carrier-confirmed hand-off."""
