"""Streamlit pages: thin views over riskmap's cores and service."""
