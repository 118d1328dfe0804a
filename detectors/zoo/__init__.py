"""The model zoo: named models, where they come from, and the checks before they run."""
