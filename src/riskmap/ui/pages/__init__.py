"""The dashboard pages; each module exposes `render() -> None` (see riskmap.ui.registry)."""
