#!/usr/bin/env python3
"""Writes demo.jsonl: the bundled OIG-style sample that `riverbed demo` scores.

Deterministic (fixed seed, no external data). Each row is a multi-turn dialogue built from a small table of facts
written for this project; about one row in four has a planted problem (a wrong fact, or an answer that contradicts
itself), recorded in metadata.planted so a reviewer can compare Riverbed's flags with the truth.
Run: python3 make_demo_data.py > demo.jsonl
"""
import json
import random

COUNTRIES = [
    # country, capital, wrong capital, population of capital (millions), river, continent
    ("France", "Paris", "Lyon", "2.1", "Seine", "Europe"),
    ("Germany", "Berlin", "Munich", "3.7", "Spree", "Europe"),
    ("Italy", "Rome", "Milan", "2.8", "Tiber", "Europe"),
    ("Spain", "Madrid", "Barcelona", "3.3", "Manzanares", "Europe"),
    ("Portugal", "Lisbon", "Porto", "0.5", "Tagus", "Europe"),
    ("Austria", "Vienna", "Salzburg", "1.9", "Danube", "Europe"),
    ("Hungary", "Budapest", "Debrecen", "1.7", "Danube", "Europe"),
    ("Poland", "Warsaw", "Krakow", "1.8", "Vistula", "Europe"),
    ("Egypt", "Cairo", "Alexandria", "10.0", "Nile", "Africa"),
    ("Japan", "Tokyo", "Osaka", "14.0", "Sumida", "Asia"),
    ("Thailand", "Bangkok", "Chiang Mai", "10.5", "Chao Phraya", "Asia"),
    ("Argentina", "Buenos Aires", "Cordoba", "3.1", "Rio de la Plata", "South America"),
    ("Peru", "Lima", "Cusco", "10.0", "Rimac", "South America"),
    ("Canada", "Ottawa", "Toronto", "1.0", "Ottawa", "North America"),
    ("Australia", "Canberra", "Sydney", "0.4", "Molonglo", "Oceania"),
    ("Ireland", "Dublin", "Cork", "0.6", "Liffey", "Europe"),
    ("Czechia", "Prague", "Brno", "1.3", "Vltava", "Europe"),
    ("Russia", "Moscow", "Saint Petersburg", "13.0", "Moskva", "Europe"),
    ("England", "London", "Manchester", "8.9", "Thames", "Europe"),
    ("Iraq", "Baghdad", "Basra", "7.5", "Tigris", "Asia"),
]

PEOPLE = [
    # person, achievement, year, wrong year, field
    ("Marie Curie", "won the Nobel Prize in Physics", "1903", "1923", "physics and chemistry"),
    ("Albert Einstein", "published the theory of special relativity", "1905", "1935", "physics"),
    ("Isaac Newton", "published the Principia", "1687", "1727", "mathematics and physics"),
    ("Charles Darwin", "published On the Origin of Species", "1859", "1889", "biology"),
    ("Ada Lovelace", "wrote the first published computer program", "1843", "1873", "mathematics"),
    ("Neil Armstrong", "walked on the Moon", "1969", "1959", "spaceflight"),
    ("Alexander Fleming", "discovered penicillin", "1928", "1948", "medicine"),
    ("Galileo Galilei", "observed the moons of Jupiter", "1610", "1650", "astronomy"),
    ("Johannes Gutenberg", "introduced printing with movable type in Europe", "1440", "1490", "printing"),
    ("Wright brothers", "made the first powered airplane flight", "1903", "1913", "aviation"),
    ("Dmitri Mendeleev", "published the periodic table", "1869", "1899", "chemistry"),
    ("Louis Pasteur", "developed the rabies vaccine", "1885", "1905", "microbiology"),
]

ANIMALS = [
    # animal, adjective, wrong adjective, habitat, food, legs
    ("cat", "fluffy", "scaly", "homes around the world", "meat", "four"),
    ("penguin", "flightless", "venomous", "the Southern Hemisphere", "fish", "two"),
    ("elephant", "large", "tiny", "Africa and Asia", "plants", "four"),
    ("owl", "nocturnal", "aquatic", "forests", "mice", "two"),
    ("camel", "hardy", "fragile", "deserts", "plants", "four"),
    ("dolphin", "intelligent", "cold-blooded", "oceans", "fish", "no"),
    ("spider", "patient", "herbivorous", "gardens", "insects", "eight"),
    ("llama", "woolly", "feathered", "the Andes", "grass", "four"),
]

COOKING = [
    # dish, ingredient, minutes, temperature (C), wrong temperature
    ("bread", "flour", "35", "220", "90"),
    ("a sponge cake", "eggs", "25", "180", "300"),
    ("roast potatoes", "potatoes", "45", "200", "60"),
    ("pizza", "dough", "12", "250", "100"),
    ("granola", "oats", "20", "160", "400"),
    ("lasagna", "pasta sheets", "40", "190", "80"),
]


def oig(turns):
    return "\n".join(("<human>: " if speaker == "human" else "<bot>: ") + text for speaker, text in turns)


def country_rows(rng):
    for country, capital, wrong, population, river, continent in COUNTRIES:
        yield [("human", f"What is the capital of {country}?"),
               ("bot", f"The capital of {country} is {capital}. It lies on the {river} river in {continent}.")], None
        yield [("human", f"Tell me about {capital}."),
               ("bot", f"{capital} is the capital of {country}. About {population} million people live in the city."),
               ("human", "What river runs through it?"),
               ("bot", f"The {river} runs through {capital}.")], None
        if rng.random() < 0.5:
            yield [("human", f"Which city is the capital of {country}?"),
                   ("bot", f"The capital of {country} is {wrong}. Many tourists visit it every year.")], "wrong fact: capital"
        else:
            yield [("human", f"Is {capital} the capital of {country}?"),
                   ("bot", f"Yes, {capital} is the capital of {country}. The capital of {country} is not {capital}.")], "self-contradiction"


def people_rows(rng):
    for person, achievement, year, wrong_year, field in PEOPLE:
        yield [("human", f"Who was {person}?"),
               ("bot", f"{person} was a pioneer of {field}. In {year}, {person} {achievement}.")], None
        yield [("human", f"When did {person} make their best known contribution?"),
               ("bot", f"In {year}."),
               ("human", "What was it?"),
               ("bot", f"{person} {achievement}, a landmark in {field}.")], None
        if rng.random() < 0.5:
            yield [("human", f"What did {person} do in {field}?"),
                   ("bot", f"{person} {achievement} in {wrong_year}.")], "wrong fact: year"
        else:
            yield [("human", f"Summarize {person}'s life."),
                   ("bot", f"{person} worked in {field} and {achievement} in {year}."),
                   ("human", "Are you sure about the year?"),
                   ("bot", f"Yes. It happened in {wrong_year}, not in {year}.")], "self-contradiction"


def animal_rows(rng):
    for animal, adjective, wrong, habitat, food, legs in ANIMALS:
        yield [("human", f"Describe a {animal}."),
               ("bot", f"The {animal} is a {adjective} animal. It lives in {habitat} and eats {food}.")], None
        yield [("human", f"How many legs does a {animal} have?"),
               ("bot", f"A {animal} has {legs} legs."),
               ("human", f"What does it eat?"),
               ("bot", f"Most of the time a {animal} eats {food}.")], None
        yield [("human", f"What is special about the {animal}?"),
               ("bot", f"The {animal} is a {wrong} animal that lives in {habitat}.")], "wrong fact: adjective"


def cooking_rows(rng):
    for dish, ingredient, minutes, temperature, wrong in COOKING:
        yield [("human", f"How do I bake {dish}?"),
               ("bot", f"Preheat the oven to {temperature} degrees. Prepare the {ingredient}, then bake for {minutes} minutes."),
               ("human", "Anything else?"),
               ("bot", "Let it cool before serving.")], None
        yield [("human", f"What temperature should I use for {dish}?"),
               ("bot", f"Use {wrong} degrees and bake for {minutes} minutes.")], "wrong fact: temperature"


def chit_chat_rows(rng):
    greetings = ["Hello!", "Hi there.", "Good morning!", "Hey, how are you?"]
    answers = ["Hello! How can I help you today?", "Hi! What would you like to know?",
               "Good morning! I am happy to help.", "I am doing well, thank you. How can I help?"]
    for i in range(12):
        yield [("human", greetings[i % len(greetings)]), ("bot", answers[i % len(answers)]),
               ("human", "Can you recommend a book?"),
               ("bot", "You might enjoy a classic novel such as Pride and Prejudice by Jane Austen.")], None


def main():
    rng = random.Random(20261122)
    rows = []
    for source in (country_rows, people_rows, animal_rows, cooking_rows, chit_chat_rows):
        rows.extend(source(rng))
    # Repeat the table with light variations until there are a few hundred rows.
    variations = ["", " Thanks!"]
    out = []
    for round_index, variation in enumerate(variations):
        for turns, planted in rows:
            turns = list(turns)
            speaker, text = turns[0]
            turns[0] = (speaker, text + variation)
            out.append((turns, planted))
    for index, (turns, planted) in enumerate(out):
        record = {"id": f"demo-{index:04d}", "text": oig(turns),
                  "metadata": {"source": "riverbed-demo", "planted": planted}}
        print(json.dumps(record, ensure_ascii=False))


if __name__ == "__main__":
    main()
