"""ltrkit's feature-extraction layer: text collections -> per (query, document) features -> LETOR."""

__all__: list[str] = []
