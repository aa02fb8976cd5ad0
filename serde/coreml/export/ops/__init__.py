"""Core ML export converters, one module per MXNet operator family."""
