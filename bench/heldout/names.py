"""People's names of many cultures, written by hand for this corpus (no list shared with Faker or Clearance).

A ``Person`` knows how it is written in full (in the order its culture writes it in an English-language
document), its given name alone, and a plausible e-mail local part.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

# culture: (given names, family names)
CULTURES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "english": (
        (
            "Oliver", "Harriet", "Gareth", "Bethany", "Declan", "Imogen", "Nathaniel", "Rosalind", "Callum", "Megan",
            "Trevor", "Allison", "Bradley", "Courtney", "Dustin", "Whitney", "Malcolm", "Eleanor", "Spencer", "Leah"
        ),
        (
            "Whitfield", "Ashworth", "Pemberton", "Caldwell", "Hargreaves", "Thornton", "Blackwood", "Fairbanks",
            "Kendrick", "Holloway", "Prescott", "Wakefield", "O'Brien", "McAllister", "O'Sullivan", "MacLeod",
            "Fitzgerald", "Donnelly", "Sutherland", "Ridley"
        ),
    ),
    "hispanic": (
        (
            "Tomás", "Lucía", "Alejandro", "Marisol", "Joaquín", "Ximena", "Rodrigo", "Inés", "Santiago", "Begoña",
            "Íñigo", "Guadalupe", "Julián", "Consuelo", "Esteban", "Rocío", "Mateo", "Valentina", "Andrés", "Yolanda"
        ),
        (
            "Ortega", "Fernández", "Castañeda", "Villanueva", "Ibáñez", "de la Cruz", "García-Márquez", "Núñez",
            "Sepúlveda", "Echeverría", "Montoya", "Zúñiga", "del Río", "Quintero", "Peña", "Barrientos", "Olmedo",
            "Arriaga", "Salcedo", "Tejada"
        ),
    ),
    "chinese": (
        (
            "Wei", "Xiaoling", "Jianguo", "Meiling", "Haoran", "Yuting", "Zhiwei", "Shufen", "Junjie", "Lihua", "Zihan",
            "Qiang", "Xinyi", "Boyang", "Ruoxi", "Dongmei", "Kaiwen", "Yanping", "Chenxi", "Guoliang"
        ),
        (
            "Zhang", "Wang", "Liu", "Chen", "Huang", "Zhao", "Zhou", "Xu", "Sun", "Ma", "Zhu", "Hu", "Guo", "Lin",
            "Gao", "Luo", "Zheng", "Liang", "Xie", "Tang"
        ),
    ),
    "indian": (
        (
            "Priya", "Arjun", "Ananya", "Vikram", "Deepika", "Rohan", "Lakshmi", "Siddharth", "Kavya", "Aditya",
            "Meenakshi", "Harish", "Nandini", "Rajesh", "Sunita", "Karthik", "Divya", "Manoj", "Shreya", "Venkatesh"
        ),
        (
            "Raman", "Iyer", "Chatterjee", "Deshpande", "Subramanian", "Nair", "Banerjee", "Kulkarni", "Reddy",
            "Venkataraman", "Mukherjee", "Pillai", "Chaudhary", "Bhattacharya", "Menon", "Agarwal", "Srinivasan",
            "Joshi", "Krishnamurthy", "Rao"
        ),
    ),
    "arabic": (
        (
            "Omar", "Layla", "Yousef", "Fatima", "Khalid", "Nour", "Tariq", "Samira", "Hamza", "Rania", "Faisal",
            "Yasmin", "Karim", "Huda", "Bilal", "Amira", "Walid", "Dalia", "Mustafa", "Salma"
        ),
        (
            "Al-Farsi", "Haddad", "Khoury", "Mansour", "El-Sayed", "Nasser", "Qureshi", "Abdullah", "Saleh", "Al-Amin",
            "Bakr", "Darwish", "Hamdan", "Jaber", "Rahimi", "Suleiman", "Tawfiq", "Zaydan", "Ghanem", "Obeidat"
        ),
    ),
    "slavic": (
        (
            "Dmitri", "Katarzyna", "Miroslav", "Svetlana", "Bogdan", "Zuzana", "Vladimir", "Agnieszka", "Radek",
            "Milena", "Yaroslav", "Ludmila", "Tomasz", "Oksana", "Stanislav", "Jelena", "Pavel", "Irina", "Marek",
            "Dragana"
        ),
        (
            "Kowalczyk", "Novák", "Petrović", "Sokolov", "Wiśniewski", "Horváthová", "Ivanenko", "Dvořák", "Jovanović",
            "Kuznetsova", "Zieliński", "Babić", "Lebedev", "Szymańska", "Procházka", "Marković", "Volkov", "Grabowski",
            "Kovačević", "Shevchenko"
        ),
    ),
    "african": (
        (
            "Chinedu", "Amara", "Kwame", "Nokuthula", "Oluwaseun", "Thandiwe", "Kofi", "Adaeze", "Tendai", "Folake",
            "Jabari", "Wanjiru", "Sipho", "Ngozi", "Kagiso", "Abena", "Emeka", "Zanele", "Babajide", "Makena"
        ),
        (
            "Okafor", "Mensah", "Adeyemi", "Dlamini", "Nwosu", "Kamau", "Okonkwo", "Asante", "Mthembu", "Balogun",
            "Achieng", "Boateng", "Ndlovu", "Eze", "Otieno", "Oyelaran", "Mutasa", "Owusu", "Chukwu", "Nkosi"
        ),
    ),
    "european": (
        (
            "Lukas", "Annika", "Matthias", "Sanne", "Pieter", "Élodie", "Benoît", "Giulia", "Lorenzo", "Ingrid",
            "Søren", "Maëlle", "Jürgen", "Francesca", "Henrik", "Chiara", "Bastien", "Liesbeth", "Joachim", "Margaux"
        ),
        (
            "van der Berg", "de Vries", "Schäfer", "Lefebvre", "Rossi", "Bianchi", "Janssens", "Müller-Lüdenscheidt",
            "van Dijk", "Dubois", "Kristiansen", "Brunetti", "Vogelsang", "Moreau", "de Groot", "Lindqvist", "Ferrari",
            "Hoffmann", "Girard", "Van den Broeck"
        ),
    ),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Person:
    given: str
    family: str
    culture: str

    @property
    def full(self) -> str:
        return f"{self.given} {self.family}"

    @property
    def reversed(self) -> str:
        """``Family, Given`` as directories and CRM exports write it."""
        return f"{self.family}, {self.given}"

    def email_local(self, rng: random.Random) -> str:
        given, family = ascii_fold(self.given).lower(), ascii_fold(self.family).lower().replace(" ", "")
        family = family.replace("'", "").replace("-", "")
        style = rng.randrange(6)
        if style == 0:
            return f"{given}.{family}"
        if style == 1:
            return f"{given[0]}{family}"
        if style == 2:
            return f"{given}_{family}{rng.randrange(1, 99)}"
        if style == 3:
            return f"{given}"
        if style == 4:
            return f"{family}.{given[0]}"
        return f"{given}.{family}+{rng.choice(('billing', 'work', 'news', 'jira'))}"


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def person(rng: random.Random, culture: str | None = None) -> Person:
    culture = culture or rng.choice(sorted(CULTURES))
    givens, families = CULTURES[culture]
    return Person(rng.choice(givens), rng.choice(families), culture)
