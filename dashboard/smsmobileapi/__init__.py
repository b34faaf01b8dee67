"""The SMSMobileAPI call-history client and the built-in demo upstream.

The only package that imports httpx and knows the provider's parameter names. Nothing
here renders HTML; `conf.get_client()` is the single Django-aware entry point.
"""
