"""riskmap: corruption-risk map and remediation planner for trafficking-exposed units."""

__version__ = "0.1.0"
