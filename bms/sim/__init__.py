"""Simulated field devices on loopback: real protocol servers driven by small physical models."""
