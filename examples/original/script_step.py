"""Script step example."""

from argyll import Client, AttributeType

client = Client()

if __name__ == "__main__":
    # Ale script that doubles a number
    client.new_step().with_name("Double") \
        .required("value", AttributeType.NUMBER) \
        .output("result", AttributeType.NUMBER) \
        .with_script("(* value 2)") \
        .with_label("category", "math") \
        .register()

    print("Script step 'Double' registered successfully")
