"""Reports: tables, JSON documents and (later) figures and HTML built from results."""
