"""Where problems come from: Problem files and built-in procedural generators."""
