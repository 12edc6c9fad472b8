"""Log sources: each turns one input format into normalised `LogRecord`s, counting what it
cannot parse in a `MalformedLines` instead of failing."""
