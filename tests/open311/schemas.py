"""JSON Schemas written from the GeoReport v2 text (http://wiki.open311.org/GeoReport_v2), not
from PAHT's code: what a conforming JSON answer looks like. Dates must carry a timezone; ids and
codes are strings (the spec's own ``"service_code":001`` is not JSON)."""

from __future__ import annotations

DATETIME = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$",
}
BOOL = {"type": ["boolean", "string"], "enum": [True, False, "true", "false"]}

SERVICES = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["service_code", "service_name", "metadata", "type"],
        "properties": {
            "service_code": {"type": "string", "minLength": 1},
            "service_name": {"type": "string"},
            "description": {"type": "string"},
            "metadata": BOOL,
            "type": {"enum": ["realtime", "batch", "blackbox"]},
            "keywords": {"type": "string"},
            "group": {"type": "string"},
        },
    },
}

SERVICE_DEFINITION = {
    "type": "object",
    "required": ["service_code", "attributes"],
    "properties": {
        "service_code": {"type": "string"},
        "attributes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["variable", "code", "datatype", "required", "order", "description"],
                "properties": {
                    "variable": BOOL,
                    "code": {"type": "string", "minLength": 1},
                    "datatype": {
                        "enum": [
                            "string",
                            "number",
                            "datetime",
                            "text",
                            "singlevaluelist",
                            "multivaluelist",
                        ]
                    },
                    "required": BOOL,
                    "datatype_description": {"type": "string"},
                    "order": {"type": "integer", "minimum": 1},
                    "description": {"type": "string"},
                    "values": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["key", "name"],
                            "properties": {"key": {"type": "string"}, "name": {"type": "string"}},
                        },
                    },
                },
            },
        },
    },
}

CREATED = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "properties": {
            "service_request_id": {"type": "string"},
            "token": {"type": "string"},
            "service_notice": {"type": "string"},
            "account_id": {"type": "string"},
        },
        "anyOf": [{"required": ["service_request_id"]}, {"required": ["token"]}],
    },
}

REQUESTS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["service_request_id", "status", "requested_datetime"],
        "additionalProperties": False,
        "properties": {
            "service_request_id": {"type": "string"},
            "status": {"enum": ["open", "closed"]},
            "status_notes": {"type": "string"},
            "service_name": {"type": "string"},
            "service_code": {"type": "string"},
            "description": {"type": "string"},
            "agency_responsible": {"type": "string"},
            "service_notice": {"type": "string"},
            "requested_datetime": DATETIME,
            "updated_datetime": DATETIME,
            "expected_datetime": DATETIME,
            "address": {"type": "string"},
            "address_id": {"type": "string"},
            "zipcode": {"type": "string"},
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            "long": {"type": "number", "minimum": -180, "maximum": 180},
            "media_url": {"type": "string", "format": "uri"},
        },
    },
}

ERRORS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": ["integer", "string"]}, "description": {"type": "string"}},
    },
}

DISCOVERY = {
    "type": "object",
    "required": ["changeset", "contact", "key_service", "endpoints"],
    "properties": {
        "changeset": DATETIME,
        "contact": {"type": "string"},
        "key_service": {"type": "string"},
        "endpoints": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["specification", "url", "changeset", "type", "formats"],
                "properties": {
                    "specification": {"type": "string"},
                    "url": {"type": "string"},
                    "changeset": DATETIME,
                    "type": {"enum": ["production", "test"]},
                    "formats": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}

# The spec's own JSON examples (service_code quoted: the spec's bare 001 is not valid JSON).
SPEC_SERVICES_EXAMPLE = [
    {
        "service_code": "001",
        "service_name": "Cans left out 24x7",
        "description": "Garbage or recycling cans that have been left out for more than 24 hours "
        "after collection. Violators will be cited.",
        "metadata": True,
        "type": "realtime",
        "keywords": "lorem, ipsum, dolor",
        "group": "sanitation",
    },
]
SPEC_REQUESTS_EXAMPLE = [
    {
        "service_request_id": "638344",
        "status": "closed",
        "status_notes": "Duplicate request.",
        "service_name": "Sidewalk and Curb Issues",
        "service_code": "006",
        "description": None,
        "agency_responsible": None,
        "service_notice": None,
        "requested_datetime": "2010-04-14T06:37:38-08:00",
        "updated_datetime": "2010-04-14T06:37:38-08:00",
        "expected_datetime": "2010-04-15T06:37:38-08:00",
        "address": "8TH AVE and JUDAH ST",
        "address_id": "545483",
        "zipcode": 94122,
        "lat": 37.762221815,
        "long": -122.4651145,
        "media_url": "http://city.gov.s3.amazonaws.com/requests/media/638344.jpg ",
    },
]
SPEC_ERRORS_EXAMPLE = [
    {"code": 403, "description": "Invalid api_key received -- can't proceed with create_request."}
]
SPEC_CREATED_EXAMPLE = [
    {
        "service_request_id": "293944",
        "service_notice": "The City will inspect and require the responsible party to correct within 24 hours and/or issue a Correction Notice or Notice of Violation of the Public Works Code",
        "account_id": None,
    }
]
