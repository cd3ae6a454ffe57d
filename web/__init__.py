"""The web app: REST API, Gradio UI, embed view, auth and uploads over the search engine."""
