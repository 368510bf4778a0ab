"""The tenant assistant: portal core, channels, staff console and the run command."""
