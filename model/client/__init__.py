"""The audio client that feeds or drains a stream."""
