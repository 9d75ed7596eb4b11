"""One reader per kind of drop. Each turns a file into bronze rows + rejected rows, or raises
DropRejected with the reason the whole file cannot be used."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    header: str        # as the ERP writes it
    name: str          # bronze/silver column name
    type: str = "text"  # text | number | date
    required: bool = False   # the value must be present on every row
    minimum: float | None = None  # numbers: smallest accepted value
    exclusive: bool = False  # minimum itself is not accepted
    maximum: float | None = None  # numbers: largest accepted value


@dataclass(frozen=True)
class CsvKind:
    kind: str
    pattern: str
    columns: tuple[Column, ...]
    # One row per this key inside a file (the contract); repeats are rejected rows (sources/dupes.py).
    unique: tuple[str, ...] = ()
    unique_label: str = ""

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


SUPRIMENTOS = CsvKind(
    kind="suprimentos",
    pattern="suprimentos*.csv",
    columns=(
        Column("DEPÓSITO", "depot"),
        Column("PRODUTO/SERVIÇO", "item_id", required=True),
        Column("MATERIAL", "description"),
        Column("FAMÍLIA", "family"),
        Column("NOME FORNEC.", "supplier"),
        Column("QUANTIDADE", "quantity", "number", required=True, minimum=0, exclusive=True),
        Column("U.M.", "unit"),
        Column("DATA REQUISITADA", "required_date", "date"),
        Column("SOLICITAÇÃO", "request_no"),
        Column("DATA SOLICITADO", "request_date", "date"),
        Column("DATA DE COMPRA", "purchase_date", "date"),
    ),
)

ESTOQUE = CsvKind(
    kind="estoque",
    pattern="estoque*.csv",
    columns=(
        Column("DEPÓSITO", "depot", required=True),
        Column("PRODUTO", "item_id", required=True),
        Column("DESCRIÇÃO", "description"),
        Column("U.M.", "unit"),
        Column("SALDO", "on_hand", "number", required=True, minimum=0),
        Column("EM PEDIDO", "on_order", "number", minimum=0),
        Column("DATA POSIÇÃO", "position_date", "date", required=True),
    ),
    unique=("depot", "item_id", "position_date"),
    unique_label="depot, item and position date",
)

# The planner's sheet (contract section 2b): one row per item, every column but the code may be blank.
PARAMETROS = CsvKind(
    kind="parametros",
    pattern="parametros*.csv",
    columns=(
        Column("PRODUTO", "item_id", required=True),
        Column("EMBALAGEM", "pack_size", "number", minimum=0, exclusive=True),
        Column("LOTE MÍNIMO", "min_order_qty", "number", minimum=0),
        Column("NÍVEL DE SERVIÇO", "service_level", "number", minimum=0.5, maximum=0.999),
        Column("PRAZO (DIAS)", "lead_time_days", "number", minimum=1),
    ),
    unique=("item_id",),
    unique_label="item",
)

CSV_KINDS = (SUPRIMENTOS, ESTOQUE, PARAMETROS)

