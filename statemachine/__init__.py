"""The image loop's workflow definition."""
