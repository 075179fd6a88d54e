"""Compiled templates shared by the apps of one test run (each test makes its own app).

Every app has its own Jinja environment, which would parse and compile each template it renders
again, test after test. This cache hands an environment the code compiled for the same template
source by an environment with the same settings; any change to the source (its checksum) or to
those settings compiles afresh. Rendering is the environment's own, as without the cache.
"""

from __future__ import annotations

from types import CodeType

from jinja2 import BytecodeCache, Environment
from jinja2.bccache import Bucket


def _settings(environment: Environment) -> tuple:
    """What the compiled code depends on besides the source (the compiler also checks filter and test names)."""
    return (
        environment.block_start_string,
        environment.block_end_string,
        environment.variable_start_string,
        environment.variable_end_string,
        environment.comment_start_string,
        environment.comment_end_string,
        environment.line_statement_prefix,
        environment.line_comment_prefix,
        environment.trim_blocks,
        environment.lstrip_blocks,
        environment.newline_sequence,
        environment.keep_trailing_newline,
        environment.optimized,
        environment.is_async,
        environment.finalize is not None,
        getattr(environment.autoescape, "__func__", environment.autoescape),  # Flask's: a method of the app
        tuple(sorted(environment.extensions)),
        frozenset(environment.filters),
        frozenset(environment.tests),
    )


class SharedTemplateCode(BytecodeCache):
    def __init__(self) -> None:
        self._code: dict[tuple, tuple[str, CodeType]] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        found = self._code.get((bucket.key, _settings(bucket.environment)))
        if found is not None and found[0] == bucket.checksum:
            bucket.code = found[1]

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[(bucket.key, _settings(bucket.environment))] = (bucket.checksum, bucket.code)


SHARED_TEMPLATE_CODE = SharedTemplateCode()
