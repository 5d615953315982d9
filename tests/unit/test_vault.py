"""The vault: secrets sealed with AES-GCM, clear errors for a wrong, bad or missing key, never logged."""

from __future__ import annotations

import pytest

from rostersync.log import redact
from rostersync.vault import BadKey, DamagedToken, Vault, WrongKey, generate_key

SECRETS = {"client_secret": "sup3r-s3cret-value", "nested": {"token": "another-secret-99"}}


@pytest.fixture
def vault() -> Vault:
    return Vault.from_key_text(generate_key())


def test_a_sealed_dict_round_trips_and_does_not_show_its_contents(vault):
    token = vault.encrypt(SECRETS, context="springfield")
    assert token.startswith("rsv1.") and "sup3r" not in token
    assert vault.decrypt(token, context="springfield") == SECRETS
    assert vault.encrypt(SECRETS) != vault.encrypt(SECRETS)  # a fresh nonce each time


def test_another_key_is_named_as_the_cause(vault):
    token = vault.encrypt(SECRETS)
    other = Vault.from_key_text(generate_key())
    with pytest.raises(WrongKey) as info:
        other.decrypt(token)
    assert "another key" in str(info.value) and "ROSTERSYNC_SECRET_KEY" in info.value.fix
    assert "sup3r" not in str(info.value)


def test_a_token_moved_to_another_record_or_altered_does_not_decrypt(vault):
    token = vault.encrypt(SECRETS, context="springfield")
    with pytest.raises(DamagedToken):
        vault.decrypt(token, context="shelbyville")
    head, body = token.rsplit(".", 1)
    flipped = body[:-3] + ("A" if body[-3] != "A" else "B") + body[-2:]
    with pytest.raises(DamagedToken):
        vault.decrypt(f"{head}.{flipped}", context="springfield")
    with pytest.raises(DamagedToken):
        vault.decrypt("not a token")


@pytest.mark.parametrize("text", ["", "short", "!!!!" * 11, generate_key()[:-8]])
def test_a_key_that_is_not_32_bytes_of_base64_is_refused(text):
    with pytest.raises(BadKey) as info:
        Vault.from_key_text(text)
    assert "32 bytes" in str(info.value) and info.value.fix


def test_decrypted_secrets_are_redacted_from_logs(vault):
    token = vault.encrypt(SECRETS)
    values = vault.decrypt(token)
    line = f"calling provider with {values['client_secret']} and {values['nested']['token']}"
    assert "sup3r-s3cret-value" not in redact(line) and "another-secret-99" not in redact(line)
    assert "sup3r" not in repr(vault)
