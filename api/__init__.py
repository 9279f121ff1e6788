"""The HTTP API (FastAPI): employers and agencies, clerks, retirees, supervisors, and the rules.

Routes live in ``api/routes``; they read the database read model for lists and send every change
to the case's workflow as a Temporal Update, answering with the state the workflow returns.
"""
