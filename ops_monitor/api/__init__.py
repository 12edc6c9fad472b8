"""The ops routes: a FastAPI app over the monitor service (`create_app` in `app.py`)."""
