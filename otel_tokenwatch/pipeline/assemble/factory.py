"""The ``assemble`` processor: the assembler's settings plus the stamp on each root.

Listing ``assemble`` in a traces pipeline turns on assembly with these
settings; as a stage it stamps the released tree's root with
``tokenwatch.trace.spans`` and ``tokenwatch.trace.complete`` and marks late
spans ``tokenwatch.late=true``.
"""

from __future__ import annotations

from otel_tokenwatch import semconv
from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig
from otel_tokenwatch.pipeline.processor import BaseProcessor, ProcessorContext, ProcessorFactory
from otel_tokenwatch.pipeline.tree import Tree


class StampProcessor(BaseProcessor):
    name = "assemble"
    shared_state = False  # the tree alone: may run ahead (ProcessorChain.prepare)

    def process(self, tree: Tree) -> None:
        if tree.late:
            for e in tree.spans:
                if e.late:
                    e.set(semconv.LATE, True)
            return
        root = tree.root()
        if root is None:
            return
        root.set(semconv.TRACE_SPANS, len(tree.spans))
        root.set(semconv.TRACE_COMPLETE, tree.complete)


def _create(config: AssembleConfig, ctx: ProcessorContext) -> StampProcessor:
    return StampProcessor()


FACTORY = ProcessorFactory(type="assemble", config_class=AssembleConfig, create=_create, stability="beta")
