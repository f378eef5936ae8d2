"""Signature test vectors for the three signing schemes (DingTalk, Feishu, perfcore webhook).

The expected values were computed with the OpenSSL command line, independently of perfcore::

    S=SECa1b2c3d4e5f6
    printf '1700000000000\\n%s' $S | openssl dgst -sha256 -hmac "$S" -binary | base64
    K=$(printf '1700000000\\n%s' $S | xxd -p | tr -d '\\n')
    printf '' | openssl dgst -sha256 -mac HMAC -macopt hexkey:$K -binary | base64
    printf '1700000000.{"id":"k1"}' | openssl dgst -sha256 -hmac whsec_test
"""

from __future__ import annotations

from perfcore_adapters.notifiers.signing import dingtalk_sign, feishu_sign, webhook_signature

SECRET = "SECa1b2c3d4e5f6"


def test_dingtalk_sign_is_hmac_of_timestamp_newline_secret_keyed_by_secret_url_encoded() -> None:
    assert dingtalk_sign(SECRET, 1700000000000) == "oJQpdCHfADjAvXpklWV1PzUEobyTlyhOkQWGlZgxWPE%3D"


def test_dingtalk_sign_url_encodes_plus_and_slash() -> None:
    # openssl: e9Vkf7WbVyZnUBz2oRAGFbxcfY+4Q50HXkHGkp70MUo=  (contains "+")
    assert dingtalk_sign(SECRET, 1700000003000) == (
        "e9Vkf7WbVyZnUBz2oRAGFbxcfY%2B4Q50HXkHGkp70MUo%3D"
    )
    # openssl: 7D/ODWZ6B0jVqjaimS6ohcQweu7cl8FqwSPQzzaBdOw=  (contains "/")
    assert dingtalk_sign(SECRET, 1700000002000) == (
        "7D%2FODWZ6B0jVqjaimS6ohcQweu7cl8FqwSPQzzaBdOw%3D"
    )


def test_feishu_sign_uses_timestamp_newline_secret_as_key_over_an_empty_message() -> None:
    assert feishu_sign(SECRET, 1700000000) == "Hj9vmc4kbeFVGWs6VEER5hlsMQqJCsRwVbJXv7s5yFU="


def test_feishu_sign_differs_from_the_dingtalk_scheme() -> None:
    # the mistake several SDKs make: DingTalk's form with a seconds timestamp
    assert feishu_sign(SECRET, 1700000000) != dingtalk_sign(SECRET, 1700000000)


def test_webhook_signature_is_hex_hmac_over_timestamp_dot_raw_body() -> None:
    assert webhook_signature("whsec_test", 1700000000, b'{"id":"k1"}') == (
        "v1=c083f4e63287ffec9f1f3fb5c4518faeee81ee9946d15f81eeda436dcec203f4"
    )
