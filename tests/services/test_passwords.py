"""argon2id profiles: the default's parameters, and re-hashing when the profile changes."""

from collections.abc import Iterator

import pytest
from argon2 import extract_parameters

from pixelvault.catalog.models import Experimenter
from pixelvault.config import PASSWORD_PROFILES
from pixelvault.errors import AuthenticationError, InvalidInputError
from pixelvault.services.access import auth, passwords, principals
from pixelvault.services.vault import open_vault
from tests.conftest import Env


@pytest.fixture
def profile_restored() -> Iterator[None]:
    yield
    passwords.use_profile(passwords.DEFAULT_PROFILE)


def test_the_settings_offer_exactly_the_profiles_there_are() -> None:
    assert set(PASSWORD_PROFILES) == set(passwords.PROFILES)
    assert PASSWORD_PROFILES[0] == passwords.DEFAULT_PROFILE
    with pytest.raises(InvalidInputError, match="owasp"):
        passwords.use_profile("md5")


@pytest.mark.usefixtures("profile_restored")
def test_default_profile_is_rfc9106_low_memory() -> None:
    passwords.use_profile(passwords.DEFAULT_PROFILE)
    made = passwords.hash_password("a long secret")
    params = extract_parameters(made)
    assert made.startswith("$argon2id$")
    assert (params.memory_cost, params.time_cost, params.parallelism) == (65536, 3, 4)
    assert passwords.check_password(made, "a long secret")
    assert not passwords.check_password(made, "a wrong secret")
    assert not passwords.check_password(None, "a long secret")


@pytest.mark.usefixtures("profile_restored")
def test_a_new_profile_applies_at_each_users_next_login(initialised: Env) -> None:
    initialised.set(auth_password_profile="rfc9106-low-memory")
    vault = open_vault(initialised.settings())
    try:
        root = vault.local_admin()
        group = principals.create_group(vault.catalog, root, "lab", principals.parse_level(
            "private"))
        user_id = principals.create_user(vault.catalog, root, "alice", "A", "L", [group],
                                         password="alice-secret")

        def stored() -> str:
            with vault.catalog.session() as session:
                user = session.get(Experimenter, user_id)
                assert user is not None and user.password_hash is not None
                return user.password_hash

        before = stored()
        assert extract_parameters(before).memory_cost == 65536
        passwords.use_profile("owasp")  # as a restart with auth.password_profile = owasp
        with pytest.raises(AuthenticationError):
            auth.login(vault.catalog, vault.settings, "alice", "wrong-secret")
        assert stored() == before  # a failed login changes nothing
        auth.login(vault.catalog, vault.settings, "alice", "alice-secret")
        after = stored()
        assert extract_parameters(after).memory_cost == 19456
        auth.login(vault.catalog, vault.settings, "alice", "alice-secret")  # still works
        assert stored() == after
    finally:
        vault.close()


def test_config_refuses_unknown_profiles(env: Env) -> None:
    refused = env.cli("config", "set", "auth.password_profile", "bcrypt")
    assert refused.returncode == 78 and "rfc9106-low-memory, owasp" in refused.stderr
