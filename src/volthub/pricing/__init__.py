"""Pricing: the pure cost engine over the OCPI tariff model, and its inputs and outputs."""
