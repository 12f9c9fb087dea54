//! Writing and reading an aggregate as a directory of Parquet files.
