"""Uploaded documents (text, HTML, PDF): one partition per upload (see `connector`)."""

from democrata_assets.sources.upload.connector import UploadConnector, upload_id_for, write_upload

__all__ = ["UploadConnector", "upload_id_for", "write_upload"]
