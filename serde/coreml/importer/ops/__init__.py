"""Core ML import converters, one module per layer family."""
