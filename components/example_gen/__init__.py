"""TFX components that wrap the task-dataset builders (ExampleGen-style)."""
