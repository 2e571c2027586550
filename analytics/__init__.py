"""Pure analyses over compounds, parcels and facilities; no Streamlit here."""
