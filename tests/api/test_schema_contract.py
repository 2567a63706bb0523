"""The committed schema is the frontend teams' contract: it must match the code."""

from api.cli import SCHEMA_PATH
from api.schema import schema


def test_committed_schema_is_current() -> None:
    committed = SCHEMA_PATH.read_text(encoding="utf-8")
    assert committed == schema.as_str().rstrip() + "\n", "run `paht schema` and commit the result"


def test_every_mutation_declares_its_requirement() -> None:
    # submitReport is open to anonymous citizens (tenant from X-Paht-Tenant); the service checks
    # report:submit or report:submit_on_behalf for signed-in callers. An anonymous reporter
    # answers the agency's question, or has their contact erased, with the report's tracking
    # code (the code is the proof).
    # Signing up is how a citizen gets an account: the one-time code is its proof
    # (citizens/signup.py).
    public = {
        "login", "refreshToken", "logout", "submitReport", "answerInfoRequestByTrackingCode",
        "eraseContactByTrackingCode", "requestSignUpCode", "signUp", "startExternalLogin",
        "externalLogin",
    }  # fmt: skip
    mutation_type = schema._schema.mutation_type
    assert mutation_type is not None
    sdl = schema.as_str()
    for name in mutation_type.fields:
        if name in public:
            continue
        line = next(line for line in sdl.splitlines() if line.strip().startswith(f"{name}("))
        assert "@requiresPermission" in line or "@requiresLogin" in line, line
