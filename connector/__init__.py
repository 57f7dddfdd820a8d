"""HubSpot <-> Salesforce sync connector: one score, one status and one set of numbers for every lead.

Data flows pull -> reconcile -> score -> push -> report; ``systems`` holds the API adapters, ``store``
the state, ``cli`` the command line and ``sandbox`` the local emulators of both APIs.
"""

__version__ = "0.1.0"
