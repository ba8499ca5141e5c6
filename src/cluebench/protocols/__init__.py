"""Protocol files (TOML), read by `cluebench.protocol`; one file per protocol variant."""
