## src/core/bufio.mk - the rest of the trait surface (BufRead, adapters,
## write_fmt, read_to_end).
