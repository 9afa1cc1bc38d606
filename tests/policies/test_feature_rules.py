"""feature-group-encrypted (policies/rules/encryption.py) and feature groups in stateful-resources-protected."""

from __future__ import annotations

from policies.rules.encryption import feature_group_encrypted
from policies.rules.protection import stateful_resources_protected
from tests.policies.fixtures import KEY_ARN, Res, changed, messages, resource

FEATURE_GROUP = "aws:sagemaker/featureGroup:FeatureGroup"


def feature_group(*, protect: bool = True) -> Res:
    """As components/features.py plans it."""
    return resource(
        FEATURE_GROUP,
        "prod-cards-features-group",
        {
            "featureGroupName": "prod-cards",
            "onlineStoreConfig": {"enableOnlineStore": True, "securityConfig": {"kmsKeyId": KEY_ARN}},
            "offlineStoreConfig": {
                "s3StorageConfig": {"s3Uri": "s3://mlp-prod/features/cards/offline/", "kmsKeyId": KEY_ARN}
            },
        },
        protect=protect,
    )


def test_an_encrypted_protected_group_passes() -> None:
    assert messages(feature_group_encrypted, [feature_group()]) == []
    assert messages(stateful_resources_protected, [feature_group()]) == []


def test_an_online_store_without_a_key_is_reported() -> None:
    broken = changed(feature_group(), "onlineStoreConfig", "securityConfig", delete=True)
    assert messages(feature_group_encrypted, [broken]) == [
        "prod-cards-features-group: the online store has no customer-managed key: set "
        "online_store_config.security_config.kms_key_id to the environment key"
    ]


def test_a_disabled_online_store_needs_no_key() -> None:
    off = changed(feature_group(), "onlineStoreConfig", value={"enableOnlineStore": False})
    assert messages(feature_group_encrypted, [off]) == []


def test_an_offline_store_with_an_aws_managed_key_is_reported() -> None:
    broken = changed(feature_group(), "offlineStoreConfig", "s3StorageConfig", "kmsKeyId", value="alias/aws/s3")
    assert messages(feature_group_encrypted, [broken]) == [
        "prod-cards-features-group: the offline store has no customer-managed key: set "
        "offline_store_config.s3_storage_config.kms_key_id to the environment key"
    ]


def test_an_unprotected_group_is_reported() -> None:
    assert messages(stateful_resources_protected, [feature_group(protect=False)]) == [
        "prod-cards-features-group: the feature group is not protected: create it with protect=True "
        "(protect_stateful_resources in the env file)"
    ]
